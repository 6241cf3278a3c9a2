window.YTD.tweet.part0 = [
  {
    "tweet" : {
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [
          {
            "name" : "Alice",
            "screen_name" : "alice",
            "indices" : [
              "0",
              "6"
            ],
            "id_str" : "1468258371",
            "id" : "1468258371"
          }
        ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "38"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "1050279832581058577",
      "id_str" : "1050289898910658577",
      "in_reply_to_user_id" : "1468258371",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1050289898910658577",
      "in_reply_to_status_id" : "1050279832581058577",
      "created_at" : "Thu Oct 11 07:40:00 +0000 2018",
      "favorited" : false,
      "full_text" : "@alice Same here, it rained all night.",
      "lang" : "en",
      "in_reply_to_screen_name" : "alice",
      "in_reply_to_user_id_str" : "1468258371"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "39"
      ],
      "favorite_count" : "0",
      "in_reply_to_status_id_str" : "1050118620312514577",
      "id_str" : "1050120033792962577",
      "in_reply_to_user_id" : "3001960000",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1050120033792962577",
      "in_reply_to_status_id" : "1050118620312514577",
      "created_at" : "Wed Oct 10 20:25:01 +0000 2018",
      "favorited" : false,
      "full_text" : "(It took me three tries to write that.)",
      "lang" : "en",
      "in_reply_to_screen_name" : "marin",
      "in_reply_to_user_id_str" : "3001960000"
    }
  },
  {
    "tweet" : {
      "retweeted" : false,
      "source" : "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
      "entities" : {
        "hashtags" : [ ],
        "symbols" : [ ],
        "user_mentions" : [ ],
        "urls" : [ ]
      },
      "display_text_range" : [
        "0",
        "15"
      ],
      "favorite_count" : "5",
      "id_str" : "1050118620312514577",
      "truncated" : false,
      "retweet_count" : "0",
      "id" : "1050118620312514577",
      "created_at" : "Wed Oct 10 20:19:24 +0000 2018",
      "favorited" : false,
      "full_text" : "Hello, Twitter.",
      "lang" : "en"
    }
  }
]
